package cli

import "os"

func ExampleTable() {
	_ = Table(os.Stdout, []string{"NAME", "CONDITION", "TIMEOUT"}, [][]string{
		{"GET /books", "GET ^/books$", "1s"},
		{"POST /books/{id}", "POST", "-"},
	}, 0)
	// Output:
	// NAME               CONDITION      TIMEOUT
	// GET /books         GET ^/books$   1s
	// POST /books/{id}   POST           -
}
