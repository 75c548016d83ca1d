"""Files in and out: reading and validating actuals exports, writing tables and bytes atomically, rendering output."""
