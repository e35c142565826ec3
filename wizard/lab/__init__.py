"""The training lab: scenarios, and the local vCenter process built on govmomi's simulator."""
