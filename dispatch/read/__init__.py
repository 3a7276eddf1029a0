"""Read models: the queries behind the pages, one module per page or concern (issue 12)."""
