"""What a row must be: the mapping, value checks, payloads and drafting, by purpose."""
