-- severity: warn
-- every column of every model and run table has a description (the layers' _schema.toml, or for
-- the normalized raw tables src/occupipe/ingest/tables.py); the test results table is described
-- after the tests
with

columns as (
    select * from duckdb_columns()
),

final as (
    select
        schema_name,
        table_name,
        column_name
    from columns
    where
        database_name = current_database()
        and schema_name in ('main', 'raw')
        and not internal
        and comment is null
        and table_name != 'data_test_results'
)

select * from final
