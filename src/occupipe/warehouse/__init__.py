"""The DuckDB warehouse: load parts, build SQL models, data tests, graph, published Parquet."""
