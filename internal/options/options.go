package options

// Apply runs opts on c in order, skipping nil ones (so that callers can
// pass an option chosen at run time, or none), and stops at the first
// error, which it returns unchanged.
func Apply[C any, O ~func(*C) error](c *C, opts []O) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return err
		}
	}
	return nil
}
