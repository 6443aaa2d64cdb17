"""The `dea` command line: every engine feature, scriptable headless."""
