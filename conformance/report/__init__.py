"""Reports: HTML, JUnit XML and JSON, baselines and diffs."""
