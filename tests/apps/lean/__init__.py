"""The smallest App: one private HTTP function (stacks with components switched off)."""
