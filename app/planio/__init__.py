"""Plan files (plans/*.yaml) in and out of the database: validate, load, export."""
