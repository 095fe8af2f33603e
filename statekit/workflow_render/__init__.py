"""Renderers of one workflow definition into each engine's language.

Every renderer sends activities the same envelope, ``{"activity": name, "input": ...}``,
so one activity function per app can serve all of a workflow's activities, and
adds its own states only under names containing ``__`` (which step names may not).
"""
