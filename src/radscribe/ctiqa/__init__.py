"""CT image-quality data: procedural and real anatomy, acquisition physics, annotation and captions (issue 3)."""
