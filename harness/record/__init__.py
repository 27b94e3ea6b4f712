"""Recording a run: result.json's typed schema, building it, the run directory written
atomically, chart series, provenance, and MLPerf LoadGen's logs (written and read)."""
