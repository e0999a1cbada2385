package serve

import (
	"crypto/subtle"
	"net/http"
)

// RequireToken returns next behind the bearer token: a request without
// "Authorization: Bearer TOKEN" is answered 401 with a JSON error and a
// WWW-Authenticate header. An empty token returns next as is. The REST
// front end, /metrics and the status page's data share it.
func RequireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="edgerun"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN)")
			return
		}
		next.ServeHTTP(w, r)
	})
}
