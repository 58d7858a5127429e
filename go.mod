module servercore

go 1.26
