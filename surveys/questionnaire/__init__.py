"""Survey definitions: schema, YAML loader, placeholders, scoring, the Babel extractor, the
gettext catalogs. No database code: imports only surveys.clock, surveys.errors and storage.enums."""
