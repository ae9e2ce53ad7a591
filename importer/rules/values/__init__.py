"""Reading one kind of value (phones, dates, code points): imports only `core`."""
