"""A person's rights (see, delete, stop) and retention. Imports fieldwork and below."""
