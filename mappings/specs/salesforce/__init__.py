"""Shipped mapping specs (YAML); a package only so that wheels carry the files."""
