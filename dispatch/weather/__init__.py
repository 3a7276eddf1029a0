"""Weather go/no-go for drones: limits per drone model, readings from providers, the verdict."""
