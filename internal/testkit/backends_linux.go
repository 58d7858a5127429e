package testkit

// backends are the engines of Linux: the portable one first, then io_uring.
var backends = []string{"std", "uring"}
