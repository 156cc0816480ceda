"""Healing: findings plus survivorship rules become a plan of writes, shown to a person, applied through
the sync runner's write path, journalled with before and after values, and undoable."""
