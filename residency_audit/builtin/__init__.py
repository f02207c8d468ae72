"""Rules the tool itself relies on, loaded whatever `--rules` says (see `engine.builtin_rules`)."""
