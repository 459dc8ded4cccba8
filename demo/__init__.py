"""The demo: the real bot in its own process, the Bot API stand-in and simulated people, one
whole survey round on this machine. Not part of any edge; `pejling demo` runs it."""
