module servercore/examples/mmo/web/devtool

go 1.26.0

require (
	github.com/chromedp/chromedp v0.24.0
	github.com/evanw/esbuild v0.28.2
	google.golang.org/protobuf v1.36.11
	servercore v0.0.0
)

require (
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace servercore => ../../../..
