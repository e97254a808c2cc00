package auth

import "errors"

// errUnclosedQuote is returned by splitWords for an unterminated quote or a
// trailing backslash.
var errUnclosedQuote = errors.New("unclosed quote or trailing backslash")

// splitWords splits a command line into words like the Bourne shell
// without expanding anything, with the rules proxmox-backup-client applies
// to PBS_PASSWORD_CMD: words are separated by space, tab or newline; single
// quotes keep everything literally; inside double quotes a backslash
// escapes only $ ' " \ and newline (and is kept before anything else);
// outside quotes a backslash makes the next character literal.
func splitWords(s string) ([]string, error) {
	const (
		between = iota
		word
		single
		double
	)
	var (
		words []string
		cur   []byte
		state = between
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch state {
		case between, word:
			switch c {
			case ' ', '\t', '\n':
				if state == word {
					words = append(words, string(cur))
					cur = cur[:0]
					state = between
				}
			case '\'':
				state = single
			case '"':
				state = double
			case '\\':
				if i+1 == len(s) {
					return nil, errUnclosedQuote
				}
				i++
				cur = append(cur, s[i])
				state = word
			default:
				cur = append(cur, c)
				state = word
			}
		case single:
			if c == '\'' {
				state = word
			} else {
				cur = append(cur, c)
			}
		case double:
			switch c {
			case '"':
				state = word
			case '\\':
				if i+1 == len(s) {
					return nil, errUnclosedQuote
				}
				i++
				switch s[i] {
				case '$', '\'', '"', '\\', '\n':
				default:
					cur = append(cur, '\\')
				}
				cur = append(cur, s[i])
			default:
				cur = append(cur, c)
			}
		}
	}
	switch state {
	case single, double:
		return nil, errUnclosedQuote
	case word:
		words = append(words, string(cur))
	}
	return words, nil
}
