"""The classroom kit: the project as graded exercises (EXERCISES.md)."""
