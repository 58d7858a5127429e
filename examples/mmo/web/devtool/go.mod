module servercore/examples/mmo/web/devtool

go 1.26.0

require (
	github.com/evanw/esbuild v0.28.2
	google.golang.org/protobuf v1.36.11
	servercore v0.0.0
)

require golang.org/x/sys v0.50.0 // indirect

replace servercore => ../../../..
