module example.com/neti-downstream

go 1.26.0

require github.com/org/neti v0.0.0

require (
	github.com/daulet/tokenizers v1.22.1 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/gomlx/go-xla v0.1.4 // indirect
	github.com/gomlx/gomlx v0.26.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/exp v0.0.0-20250819193227-8b4c13bb791b // indirect
	golang.org/x/sys v0.39.0 // indirect
	golang.org/x/term v0.38.0 // indirect
	google.golang.org/protobuf v1.36.10 // indirect
	k8s.io/klog/v2 v2.130.1 // indirect
)

// Outside the neti repository, point this at your clone of neti (go mod edit -replace
// github.com/org/neti=/path/to/neti); once neti is published, drop it (go mod edit -dropreplace
// github.com/org/neti) and require a released version.
replace github.com/org/neti => ../..
