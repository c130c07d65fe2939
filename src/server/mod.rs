//! HTTPS serving of the admission webhooks, and the plain-HTTP admin listener.
