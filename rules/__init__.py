"""Built-in rule packs (YAML data)."""
