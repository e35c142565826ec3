"""The article's rules: facts in, assessment and remedy plans out. No Qt, no pyVmomi, no I/O."""
