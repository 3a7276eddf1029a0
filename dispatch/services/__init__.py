"""Use cases: short functions that own their transaction. Web views, SMS webhooks, scheduler jobs
and the CLI all call these; nothing else commits."""
