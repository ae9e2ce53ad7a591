"""The workbooks lsq-import writes and reads back (CONTRACT section 6)."""
