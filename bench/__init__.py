"""`make bench`: the offline preview at 10, 100 and 1,000 tenants, accelerated and stock, against TARGETS."""
