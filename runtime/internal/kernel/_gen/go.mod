module github.com/edgerun/edgerun/runtime/internal/kernel/_gen

go 1.26
