"""The star level of a plan from its data: the glue between the database and the pure
engines (standard values and forecast state known on a date, stored forecast runs,
target attainment, the what-if) and the `flask score` / `forecast` / `attainment`
commands. No request machinery here."""
