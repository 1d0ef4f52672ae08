"""``tripcast demo``: the whole product on one machine over a simulated day."""
