"""The browser edge, beside bot/ and just as thin: routes, forms, templates, sessions.

It calls the same surveys/ functions as the chat (surveys.journey's web functions and
the privacy rights) and turns their plain results into pages. It never builds SQL and
imports nothing of bot/ but the settings (pyproject: tool.importlinter).
"""
