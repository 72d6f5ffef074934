"""One blueprint per audience: citizens, management, scoring."""
