"""Settings (dataclasses <-> TOML), their persistence, and where files live."""
