"""pixel_deflection."""
