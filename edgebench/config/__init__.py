"""Loading and validating suites and device profiles (TOML), parsed into frozen dataclasses."""
