"""Reports for people: the HTML report, the docs site, the data dictionary, run observations."""
