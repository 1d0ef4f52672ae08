"""Several business phone numbers: the sender table, routing, quality and limits."""
