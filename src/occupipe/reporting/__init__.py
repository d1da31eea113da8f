"""Reports for people: the HTML report and the data dictionary."""
