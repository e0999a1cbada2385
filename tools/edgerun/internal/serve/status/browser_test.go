package status

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/edgerun/edgerun/plugins/builtin/sentiment"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// browserEnv: set to 1 (make test does), a missing Chromium fails the
// browser test instead of skipping it.
const browserEnv = "EDGERUN_REQUIRE_BROWSER"

// chromium finds the browser, or skips (fails under browserEnv=1).
func chromium(t *testing.T) string {
	t.Helper()
	required := os.Getenv(browserEnv) == "1"
	if testing.Short() && !required {
		t.Skip("the real-browser test does not run under -short")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if required {
		t.Fatalf("%s=1 and no Chromium on PATH: install the Debian package chromium (scripts/ensure-deps chromium does)", browserEnv)
	}
	t.Skipf("no Chromium on PATH (Debian package chromium; make test installs it): the real-browser test is skipped")
	return ""
}

// inferHandler is a stand-in for the daemon's REST infer endpoint: OIP
// JSON in, the registry's answer out with oip.WriteResponse, errors as
// {"error": "..."} with serve.Status's code. It feeds w.
func inferHandler(reg serve.Registry, w *Window) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		fail := func(err error) {
			code, _ := serve.Status(err)
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(code)
			json.NewEncoder(rw).Encode(map[string]string{"error": err.Error()})
		}
		name := r.PathValue("name")
		or, err := oip.Decode(r.Body, oip.Options{Limits: oip.Limits{Bytes: 1 << 20, Elements: 1 << 16}})
		if err != nil {
			fail(fmt.Errorf("%w: %v", sdk.ErrInvalidInput, err))
			return
		}
		req := &sdk.InferRequest{ID: or.ID, Parameters: or.Parameters, Outputs: or.OutputNames()}
		for _, in := range or.Inputs {
			req.Inputs = append(req.Inputs, sdk.Tensor{Name: in.Name, Datatype: in.Datatype, Shape: in.Shape,
				FP32: in.FP32, INT64: in.INT64, INT32: in.INT32, BOOL: in.BOOL, BYTES: in.BYTES})
		}
		resp, err := reg.Infer(r.Context(), name, "", req)
		if err != nil {
			fail(err)
			return
		}
		out := &oip.Response{ModelName: resp.ModelName, ModelVersion: resp.ModelVersion, ID: resp.ID, Parameters: resp.Parameters}
		for _, t := range resp.Outputs {
			out.Outputs = append(out.Outputs, oip.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape,
				FP32: t.FP32, INT64: t.INT64, INT32: t.INT32, BOOL: t.BOOL, BYTES: t.BYTES})
		}
		rw.Header().Set("Content-Type", "application/json")
		oip.WriteResponse(rw, out, nil)
		w.Observe(name, time.Since(start))
	}
}

// TestBrowser opens the page in headless Chromium: it loads without a
// console message of level error or warning, an exception or a dialog
// (the hostile model name would raise alerts if it ran), lists the
// served models, shows the answer of the sentiment model to a review
// typed into its form, and follows the registry through its poll.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	model, err := sentiment.New()
	if err != nil {
		t.Fatal(err)
	}
	desc, err := model.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reg := testRegistry()
	reg.models = map[string]sdk.Model{"sentiment": model}
	for i := range reg.infos {
		if reg.infos[i].Name == "sentiment" {
			reg.infos[i].State, reg.infos[i].Desc = serve.StateReady, desc
		}
	}
	win := NewWindow()
	mux := http.NewServeMux()
	mux.Handle("/", Handler(reg, win))
	mux.Handle("POST /v2/models/{name}/infer", inferHandler(reg, win))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// What the model says in process, to compare with what the page shows.
	const review = "I loved this phone: the screen is excellent and the battery lasts for days. Great value."
	want, err := model.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{sdk.BytesTensor("text", review)}})
	if err != nil {
		t.Fatal(err)
	}
	wantLabel := string(want.Outputs[slices.IndexFunc(want.Outputs, func(o sdk.Tensor) bool { return o.Name == "label" })].BYTES[0])

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net only
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()

	// Start the browser, then subscribe to the console (calls of the
	// console API, exceptions, the browser log: CSP violations, failed
	// loads) and to dialogs before the page loads.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	var mu sync.Mutex
	var problems []string
	report := func(s string) {
		mu.Lock()
		problems = append(problems, s)
		mu.Unlock()
	}
	consoleDone := make(chan struct{})
	console := chromedp.Console(ctx)
	go func() {
		defer close(consoleDone)
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				report(fmt.Sprintf("%s (%s)", m, m.URL))
			}
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			report(fmt.Sprintf("dialog %s: %q", ev.Type, ev.Message))
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()

	card := `section.model[data-model="sentiment"]`
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(card),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("section.model"), e => e.dataset.model)`))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(card+` textarea[name="text"]`, review),
		chromedp.Click(card+` button[type="submit"]`),
		chromedp.WaitVisible(card+` .answer .verdict`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Text(card+` .answer .verdict`))
	if err != nil {
		t.Fatal(err)
	}
	answer, err := chromedp.Run(ctx, chromedp.Text(card+` .answer`))
	if err != nil {
		t.Fatal(err)
	}
	var wantNames []string
	for _, m := range reg.Models() {
		wantNames = append(wantNames, m.Name)
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("the page lists %q, want %q", names, wantNames)
	}
	if verdict != wantLabel || !slices.Contains(desc.Labels, verdict) {
		t.Errorf("the page shows %q for the review, the model says %q (labels %v)", verdict, wantLabel, desc.Labels)
	}
	for _, l := range desc.Labels { // the probabilities, by label
		if !strings.Contains(answer, l+" ") {
			t.Errorf("the answer lacks label %q: %q", l, answer)
		}
	}

	// The poll brings the registry's changes and the window's count.
	reg.setState("digits", serve.StateFailed, 5)
	digits := `section.model[data-model="digits"]`
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(digits+` [data-field="state"].state-failed`),
		voidOf(chromedp.Poll[bool](`document.querySelector('`+card+` [data-field="requests"]').textContent === "1"`)),
	)
	if err != nil {
		t.Fatalf("browser: the poll did not update the page: %v", err)
	}
	if restarts, err := chromedp.Run(ctx, chromedp.Text(digits+` [data-field="restarts"]`)); err != nil || restarts != "5" {
		t.Errorf("restarts shows %q (%v), want 5", restarts, err)
	}

	// A bad request shows the server's error, not an exception.
	err = chromedp.Do(ctx,
		chromedp.SetValue(digits+` textarea[name="body"]`, `{"inputs": [{"name": "pixels", "datatype": "FP32", "shape": [1, 64], "data": [1]}]}`),
		chromedp.Click(digits+` button[type="submit"]`),
		chromedp.WaitVisible(digits+` .answer .fail`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	failText, err := chromedp.Run(ctx, chromedp.Text(digits+` .answer .fail`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(failText, "HTTP ") {
		t.Errorf("a refused request shows %q, want the HTTP status and error", failText)
	}

	// Close the tab: the console stream ends, every message read.
	cancelBrowser()
	<-consoleDone
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		if strings.Contains(p, "/v2/models/digits/infer") && strings.Contains(p, "Failed to load resource") {
			continue // the refused request above: the browser logs its status, as it must
		}
		t.Errorf("browser: %s", p)
	}
}

// voidOf drops an action's value.
func voidOf[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// TestBrowserToken: with a token, the page opens as a shell without data,
// asks for the token, and once it is typed in builds the models' cards
// from the JSON and sends the token with the "try it" request (the infer
// endpoint here needs it too); the token outlives a reload of the tab
// (sessionStorage). No console error or warning on the way: the page
// asks for no data before it has the token.
func TestBrowserToken(t *testing.T) {
	exe := chromium(t)
	model, err := sentiment.New()
	if err != nil {
		t.Fatal(err)
	}
	desc, err := model.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reg := testRegistry()
	reg.models = map[string]sdk.Model{"sentiment": model}
	for i := range reg.infos {
		if reg.infos[i].Name == "sentiment" {
			reg.infos[i].State, reg.infos[i].Desc = serve.StateReady, desc
		}
	}
	const tok = "s3cret-token"
	win := NewWindow()
	mux := http.NewServeMux()
	mux.Handle("/", New(reg, Options{Stats: win, Token: tok}))
	mux.Handle("POST /v2/models/{name}/infer", serve.RequireToken(tok, inferHandler(reg, win)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	const review = "Awful. It broke after two days and support never answered. A waste of money."
	want, err := model.Infer(context.Background(), &sdk.InferRequest{Inputs: []sdk.Tensor{sdk.BytesTensor("text", review)}})
	if err != nil {
		t.Fatal(err)
	}
	wantLabel := string(want.Outputs[slices.IndexFunc(want.Outputs, func(o sdk.Tensor) bool { return o.Name == "label" })].BYTES[0])

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net only
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	var mu sync.Mutex
	var problems []string
	consoleDone := make(chan struct{})
	console := chromedp.Console(ctx)
	go func() {
		defer close(consoleDone)
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s (%s)", m, m.URL))
				mu.Unlock()
			}
		}
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(`#token input[name="token"]`)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("section.model").length`))
	if err != nil || n != 0 {
		t.Errorf("before the token: %d model cards (%v), want none", n, err)
	}
	card := `section.model[data-model="sentiment"]`
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`#token input[name="token"]`, tok),
		chromedp.Click(`#token button[type="submit"]`),
		chromedp.WaitVisible(card),
		chromedp.SendKeys(card+` textarea[name="text"]`, review),
		chromedp.Click(card+` button[type="submit"]`),
		chromedp.WaitVisible(card+` .answer .verdict`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Text(card+` .answer .verdict`))
	if err != nil || verdict != wantLabel {
		t.Errorf("the page shows %q (%v) for the review, the model says %q", verdict, err, wantLabel)
	}
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("section.model"), e => e.dataset.model)`))
	var wantNames []string
	for _, m := range reg.Models() {
		wantNames = append(wantNames, m.Name)
	}
	if err != nil || !slices.Equal(names, wantNames) {
		t.Errorf("the page lists %q (%v), want %q", names, err, wantNames)
	}
	// The hostile model's card is built with textContent: its name shows
	// as text, and no alert ran (a dialog would block the page).
	if _, err := chromedp.Run(ctx, chromedp.Text(`section.model:last-of-type .name`)); err != nil {
		t.Errorf("browser: %v", err)
	}
	// A reload keeps the token (sessionStorage): the cards come back.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(card)); err != nil {
		t.Fatalf("browser: after a reload: %v", err)
	}

	cancelBrowser()
	<-consoleDone
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
