"""Forms: parse and validate input. Choices offered are limited to what the user may pick;
the actions check the same rules again, so a forged POST fails as cleanly as a bad one."""
