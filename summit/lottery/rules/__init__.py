"""Pure rules of the lottery: the register, the invitation draw, the stage 2 selection."""
