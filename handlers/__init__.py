"""The example app: its logic once (no cloud SDK), and one thin entry module per cloud."""
