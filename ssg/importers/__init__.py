"""`ssg import`: turn a WordPress export, a Jekyll site or a Hugo site into a site this generator builds.

Each importer reads its source into an `ImportedSite` (plain data: settings, articles, files, notes);
`writer.write_site` alone writes it, so every importer gets the same rules for files, aliases and reports."""
