module github.com/proxkit/proxkit

go 1.26.8

require (
	github.com/hashicorp/go-cleanhttp v0.5.2
	github.com/klauspost/compress v1.20.3
	github.com/stretchr/testify v1.12.1
	golang.org/x/net v0.62.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/text v0.43.0 // indirect
)
