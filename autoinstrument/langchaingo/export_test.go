package langchaingo

import "time"

// SetReapGap sets how often h looks for spans left open under ended
// enclosing spans (tests).
func (h *Handler) SetReapGap(d time.Duration) {
	h.mu.Lock()
	h.reapGap = d
	h.mu.Unlock()
}
