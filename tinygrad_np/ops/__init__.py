"""The primitive ops, one `Function` each, grouped by kind."""
